// Command sealctl is the township e-seal client: see package cli.
package main

import (
	"os"

	"github.com/ronganxian/eseal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
