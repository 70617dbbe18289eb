//go:build race

package main

// raceEnabled is true when the tests run under the race detector; TestMain
// then builds the binary with -race too.
const raceEnabled = true
