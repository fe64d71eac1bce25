DROP TABLE practice_read_only;
DROP TABLE billing_payment_methods;
