DROP TABLE billing_practice_cards;
DROP TABLE billing_plan_changes;
DROP TABLE billing_invoices;
