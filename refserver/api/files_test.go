package api

// testMaxFileSize is the largest file of the test servers behind
// SessionAuth: more than two of the 1 MiB segments files are sealed in.
const testMaxFileSize = 3 << 20
