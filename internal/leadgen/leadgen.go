// Package leadgen writes CSV files of made-up leads for measuring imports
// and loads: the columns are email, name, title, company, country, source
// and created_at. The same n and seed always write the same file. One lead
// in share has an email at one of the account domains acct0.example ...
// (so that an import links it to that account if it exists); the others
// are at a domain of their own.
package leadgen

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

var (
	firsts    = []string{"Anna", "Ben", "Carla", "Dmitri", "Elif", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kavya", "Luis", "Mei", "Nils", "Olga", "Priya"}
	lasts     = []string{"Snelling", "Brooks", "Okafor", "Tanaka", "Silva", "Novak", "Haddad", "Larsen", "Moreau", "Quinn", "Reyes", "Schmidt", "Varga", "Weiss", "Young", "Zhou"}
	titles    = []string{"VP Marketing", "Head of Sales", "CTO", "Engineer", "Analyst", "Director of Operations", "Founder", "Product Manager", ""}
	countries = []string{"US", "DE", "FR", "GB", "IN", "BR", "JP", "NL", "ES", "CA"}
	sources   = []string{"web", "referral", "event", "paid_search", "partner", "webinar"}
)

// Write writes n leads, created over the year 2025, in time order, with
// accounts account domains of which one lead in share has an email (0:
// none).
func Write(out io.Writer, n int, seed uint64, accounts, share int) error {
	w := bufio.NewWriterSize(out, 1<<16)
	r := rand.New(rand.NewPCG(seed, 0x6c656164))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	step := 365 * 24 * time.Hour / time.Duration(max(n, 1))
	w.WriteString("email,name,title,company,country,source,created_at\n")
	var b []byte
	for i := range n {
		first, last := firsts[r.IntN(len(firsts))], lasts[r.IntN(len(lasts))]
		company := "Company " + strconv.Itoa(r.IntN(200000))
		domain := "c" + strconv.Itoa(i) + ".example"
		if share > 0 && accounts > 0 && r.IntN(share) == 0 {
			k := r.IntN(accounts)
			domain = "acct" + strconv.Itoa(k) + ".example"
			company = "Account " + strconv.Itoa(k)
		}
		b = b[:0]
		b = append(b, first...)
		b = append(b, '.')
		b = append(b, last...)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, '@')
		b = append(b, domain...)
		b = append(b, ',')
		b = append(b, first...)
		b = append(b, ' ')
		b = append(b, last...)
		b = append(b, ',')
		b = append(b, titles[r.IntN(len(titles))]...)
		b = append(b, ',')
		b = append(b, company...)
		b = append(b, ',')
		b = append(b, countries[r.IntN(len(countries))]...)
		b = append(b, ',')
		b = append(b, sources[r.IntN(len(sources))]...)
		b = append(b, ',')
		b = start.Add(time.Duration(i)*step).AppendFormat(b, time.RFC3339)
		b = append(b, '\n')
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return w.Flush()
}
