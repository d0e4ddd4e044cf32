package demo

import (
	"fmt"
	"strings"

	"github.com/batonhq/baton"
)

// The people behind the X Education leads. The data set has no names,
// titles or employers, only what the lead said about themselves; the demo
// gives each lead a made-up person, the same every time (drawn from the
// lead's id), whose title and employer follow what they said: a working
// professional has a senior title and a work email at one of the CRM data
// set's accounts, a student a personal address and no employer. So fit rules
// on titles, email domains and firmographics read something that goes with
// the behaviour and outcome underneath, as they would on real leads.

var firstNames = []string{
	"Aarav", "Aditi", "Akash", "Ananya", "Arjun", "Deepa", "Divya", "Farhan", "Gaurav", "Ishaan",
	"Kavya", "Kiran", "Meera", "Neha", "Nikhil", "Pooja", "Priya", "Rahul", "Rajesh", "Riya",
	"Rohan", "Sanjay", "Sneha", "Suresh", "Tanvi", "Varun", "Vikram", "Zara", "Amit", "Lakshmi",
	"Emma", "Liam", "Olivia", "Noah", "Sofia", "Lucas", "Mia", "Ethan", "Chloe", "Daniel",
	"Fatima", "Omar", "Yusuf", "Leila", "Chen", "Mei", "Hiro", "Yuki", "Carlos", "Lucia",
	"Grace", "Samuel", "Hannah", "David", "Sara", "James", "Nora", "Adam", "Elena", "Marco",
}

var lastNames = []string{
	"Sharma", "Patel", "Iyer", "Reddy", "Nair", "Gupta", "Singh", "Kumar", "Mehta", "Joshi",
	"Rao", "Menon", "Kapoor", "Bose", "Das", "Pillai", "Chopra", "Verma", "Kulkarni", "Desai",
	"Khan", "Ali", "Fernandes", "D'Souza", "Banerjee", "Mishra", "Agarwal", "Shetty", "Naidu", "Ghosh",
	"Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas",
	"Moore", "Martin", "Lee", "Walker", "Young", "King", "Wright", "Lopez", "Hill", "Scott",
	"Haddad", "Nguyen", "Tanaka", "Kim", "Rossi", "Muller", "Dubois", "Silva", "Cohen", "Novak",
}

var personalDomains = []string{"gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com", "hotmail.com"}

// Titles by what the lead said they do: senior people for working
// professionals, owners for business people, individual contributors for
// the rest who work.
var (
	seniorTitles = []string{"Operations Manager", "Head of Learning & Development", "Director of Operations", "Marketing Manager",
		"Engineering Manager", "VP Sales", "Finance Manager", "Head of Data", "Product Manager", "HR Manager", "Director of IT"}
	ownerTitles = []string{"Founder", "Managing Director", "CEO", "Co-founder", "Owner"}
	staffTitles = []string{"Data Analyst", "Software Engineer", "Sales Associate", "Operations Coordinator", "Accountant",
		"Marketing Specialist", "Customer Support Executive", "Business Analyst", "QA Engineer", "HR Executive"}
)

// person is who a lead is.
type person struct {
	name, title, email, company string
}

// personOf makes the person behind a lead: accounts are the CRM data set's
// accounts in file order; used holds the emails given so far.
func personOf(ld *baton.Lead, accounts []*baton.Account, used map[string]bool) person {
	ext := ld.ExternalID
	first := firstNames[hash(ext+"first")%uint32(len(firstNames))]
	last := lastNames[hash(ext+"last")%uint32(len(lastNames))]
	p := person{name: first + " " + last}
	occupation, _ := ld.Attrs["What is your current occupation"].(string)
	pick := func(list []string, what string) string { return list[hash(ext+what)%uint32(len(list))] }
	work := false
	switch occupation {
	case "Working Professional":
		p.title, work = pick(seniorTitles, "title"), true
	case "Businessman":
		p.title, work = pick(ownerTitles, "title"), true
	case "Unemployed":
		// X Education's "unemployed" are mostly people changing careers:
		// some still at a job, some between jobs.
		if work = chance(ext, "employed") < 0.55; work {
			p.title = pick(staffTitles, "title")
		} else if chance(ext, "between") < 0.5 {
			p.title = "Career changer"
		}
	case "Student":
		p.title = "Student"
	case "", "Select":
		if work = chance(ext, "employed") < 0.5; work {
			p.title = pick(append(append([]string(nil), staffTitles...), seniorTitles[:3]...), "title")
		}
	}
	local := strings.ToLower(strings.NewReplacer(" ", "", "'", "").Replace(first) + "." + strings.NewReplacer(" ", "", "'", "").Replace(last))
	domain := pick(personalDomains, "domain")
	if work && len(accounts) > 0 {
		a := accounts[hash(ext+"account")%uint32(len(accounts))]
		p.company, domain = a.Name, a.Domain
	}
	p.email = local + "@" + domain
	for i := 2; used[p.email]; i++ {
		p.email = fmt.Sprintf("%s%d@%s", local, i, domain)
	}
	used[p.email] = true
	return p
}
