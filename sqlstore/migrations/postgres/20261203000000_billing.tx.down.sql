DROP TABLE billing_cards;
DROP TABLE billing_policies;
DROP TABLE billing_events;
DROP TABLE billing_entries;
DROP TABLE billing_payments;
