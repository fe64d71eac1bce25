// Command goversion exits non-zero, with a hint, when the Go toolchain running
// it is older than the version given as its argument. The Makefile runs it.
package main

import (
	"fmt"
	"go/version"
	"os"
	"runtime"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: goversion MIN (such as 1.24)")
		os.Exit(2)
	}
	want := "go" + os.Args[1]
	if version.Compare(runtime.Version(), want) < 0 {
		fmt.Fprintf(os.Stderr, "Go %s is too old: carebook needs %s or newer (https://go.dev/dl/)\n", runtime.Version(), want)
		os.Exit(1)
	}
}
