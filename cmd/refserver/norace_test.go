//go:build !race

package main

// raceEnabled says that the test runs with the race detector.
const raceEnabled = false
