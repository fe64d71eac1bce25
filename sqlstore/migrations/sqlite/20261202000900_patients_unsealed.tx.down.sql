DROP INDEX patients_unsealed;
