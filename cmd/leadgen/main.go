// Command leadgen writes a CSV file of made-up leads for measuring imports:
//
//	go run ./cmd/leadgen -n 1000000 > leads.csv
//	baton import leads leads.csv
//
// The columns are email, name, title, company, country, source and
// created_at. The same -n and -seed always write the same file. One lead in
// -account-share has an email at one of the -accounts domains
// acct0.example ... (so that an import links it to that account if it
// exists); the others are at a domain of their own.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/batonhq/baton/internal/leadgen"
)

func main() {
	n := flag.Int("n", 1000000, "rows")
	seed := flag.Uint64("seed", 1, "random seed")
	accounts := flag.Int("accounts", 1000, "account domains acct0.example ... that some emails are at")
	share := flag.Int("account-share", 4, "one lead in this many has an email at an account domain (0: none)")
	flag.Parse()
	if err := leadgen.Write(os.Stdout, *n, *seed, *accounts, *share); err != nil {
		fmt.Fprintln(os.Stderr, "leadgen:", err)
		os.Exit(1)
	}
}
