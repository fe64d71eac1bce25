DROP TABLE usage_counters;
DROP TABLE usage_events;
DROP TABLE billing_subscriptions;
DROP TABLE billing_plans;
