DROP TABLE IF EXISTS notify_link_uses;
DROP TABLE IF EXISTS notify_webhooks;
DROP TABLE IF EXISTS notify_consent_changes;
DROP TABLE IF EXISTS notify_preferences;
DROP TABLE IF EXISTS notify_templates;
DROP TABLE IF EXISTS notify_settings;
DROP TABLE IF EXISTS notify_messages;
