DROP TABLE IF EXISTS fhir_exports;
