DROP TABLE billing_plan_changes;
DROP TABLE billing_invoices;
