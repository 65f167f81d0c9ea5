// Command sesame is the Sesame authorization server and its admin CLI.
package main

import (
	"os"

	"github.com/sesameauth/sesame/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
