package api_test

import (
	"encoding/json"
)

// testPolicy is a small policy for the fixture's leads (source web, emails
// at acmeN.test): fit from the title and the source, engagement from pricing
// views and webinars.
const testPolicy = `
name: Test policy
owner: mia.marketing@example.com
change_note: for the API tests
fit:
  - name: Senior title
    field: title
    contains: VP
    points: 30
  - name: Web source
    field: source
    in: [web]
    points: 5
  - name: Personal email
    field: email_domain
    in: [gmail.com]
    points: -20
engagement:
  half_life: 10d
  rules:
    - name: Pricing page
      event: pricing_page_view
      points: 20
    - name: Webinar
      event: webinar_attended
      points: 15
mql:
  fit: 20
  engagement: 30
  match: all
grades:
  fit: {A: 30, B: 10, C: -1000}
  engagement: {"1": 30, "2": 10, "3": -1000}
`

// policyJSON is the request body that carries a policy document.
func policyJSON(doc string) string {
	b, err := json.Marshal(map[string]string{"body": doc})
	if err != nil {
		panic(err)
	}
	return string(b)
}
