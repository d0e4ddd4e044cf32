package api

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/batonhq/baton"
)

// webhookPayload is the JSON body of every webhook delivery (storage writes
// it to the outbox, the deliverer adds delivery_id). It is here for the
// OpenAPI document's webhooks; TestWebhookPayloads checks real deliveries
// against it.
type webhookPayload struct {
	// DeliveryID is the same on every retry of one delivery: receivers
	// drop the ones they have seen.
	DeliveryID string `json:"delivery_id"`
	Event      string `json:"event"`
	// Type and Timestamp repeat Event and OccurredAt under the names
	// Standard Webhooks receivers look for.
	Type       string      `json:"type"`
	OccurredAt time.Time   `json:"occurred_at"`
	Timestamp  time.Time   `json:"timestamp"`
	Actor      string      `json:"actor"`
	Lead       *baton.Lead `json:"lead"`
	// Data is what the event carries besides the lead: null for
	// lead.stale_sal.
	Data *webhookData `json:"data"`
}

// webhookData is the data of a webhook delivery; which fields an event
// carries is said in webhookEvents.
type webhookData struct {
	Handoff      *baton.Handoff     `json:"handoff,omitempty"`
	Breached     *baton.Handoff     `json:"breached,omitempty"`
	OnBreach     string             `json:"on_breach,omitempty"`
	Opportunity  *baton.Opportunity `json:"opportunity,omitempty"`
	Reason       string             `json:"reason,omitempty"`
	Note         string             `json:"note,omitempty"`
	Outcome      baton.Stage        `json:"outcome,omitempty"`
	DuplicateOf  int64              `json:"duplicate_of,omitempty"`
	NurtureTrack string             `json:"nurture_track,omitempty"`
	NurtureUntil *time.Time         `json:"nurture_until,omitempty"`
	Value        *float64           `json:"value,omitempty"`
	// Move is the lifecycle move that sent the event.
	Move *webhookMove `json:"move,omitempty"`
	// Via is how a new lead came (lead.created).
	Via string `json:"via,omitempty"`
}

// webhookMove is a move of the lifecycle table.
type webhookMove struct {
	Verb baton.Verb  `json:"verb"`
	From baton.Stage `json:"from"`
	To   baton.Stage `json:"to"`
}

// webhookEvents says when each webhook event is sent and which fields of
// its data it carries. TestOpenAPIOperations checks that it has every
// baton.WebhookEvents.
var webhookEvents = map[string]struct {
	desc string
	data []string
}{
	"lead.assigned":     {"A lead was given to a rep who must answer: routed as an MQL or an SQL, claimed, assigned or reassigned. data.handoff is the new handoff.", []string{"handoff"}},
	"lead.reminder":     {"A rep's answer window is running out. data.handoff is the open handoff.", []string{"handoff"}},
	"lead.breached":     {"A rep did not answer in time. data.breached is the breached handoff, data.on_breach what the policy did, data.handoff the new one when the lead was reassigned.", []string{"breached", "on_breach", "handoff"}},
	"lead.accepted":     {"A rep accepted a lead. data.handoff is the answered handoff.", []string{"handoff"}},
	"lead.rejected":     {"A rep rejected a lead with an agreed reason: data.reason, data.note, data.outcome (the stage it went to), data.duplicate_of, data.nurture_track and data.nurture_until.", []string{"handoff", "reason", "note", "outcome", "duplicate_of", "nurture_track", "nurture_until"}},
	"lead.recycled":     {"A lead went back to marketing's nurture (by its BANT timing, or returned by the account executive): data.nurture_track and data.nurture_until.", []string{"nurture_track", "nurture_until"}},
	"lead.sent_back":    {"An account executive sent an SQL back to the rep who qualified it. data.handoff is the answered handoff.", []string{"handoff"}},
	"lead.converted":    {"An SQL became an opportunity. data.opportunity is the opportunity, data.handoff the answered handoff.", []string{"opportunity", "handoff"}},
	"lead.won":          {"The lead's opportunity was won. data.value is the deal's value.", []string{"value", "reason"}},
	"lead.lost":         {"The lead's opportunity was lost. data.reason says why.", []string{"value", "reason"}},
	"lead.stale_sal":    {"An accepted lead still has no opportunity past the policy's limit. data is null.", nil},
	"lead.created":      {"A lead was captured (API, import, form, web). data.via says how.", []string{"via"}},
	"lead.mql":          {"A lead became an MQL, by the policy or by marketing: data.move is the move.", []string{"move"}},
	"lead.disqualified": {"A lead was disqualified: data.move, data.reason.", []string{"move", "reason"}},
	"lead.qualified":    {"A rep qualified a lead with BANT into an SQL: data.move is the move.", []string{"move"}},
	"lead.reassigned":   {"A lead was given to another rep by a manager or the SLA sweeper: data.move, data.handoff the new handoff.", []string{"move", "handoff"}},
}

// webhooks is the document's webhooks: one POST per event.
func webhooks(ex *exampler) obj {
	out := obj{}
	for _, event := range baton.WebhookEvents {
		example := ex.example(ref("WebhookPayload"), "WebhookPayload").(map[string]any)
		example["event"] = event
		data, _ := example["data"].(map[string]any)
		for k := range data {
			if !slices.Contains(webhookEvents[event].data, k) {
				delete(data, k)
			}
		}
		if webhookEvents[event].data == nil {
			example["data"] = nil
		}
		out[event] = obj{"post": obj{
			"summary":     "The " + event + " event",
			"description": webhookEvents[event].desc + " Deliveries are signed: verify Baton-Signature before trusting the body.",
			"operationId": webhookOperationID(event),
			"tags":        []any{"webhooks"},
			"security":    []any{},
			"parameters": []any{
				header("Baton-Delivery", "The delivery id, the body's delivery_id: the same on every retry.", "4711"),
				header("Baton-Event", "The event, the body's event.", event),
				header("Baton-Signature", "t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(secret, UNIX_SECONDS + \".\" + body)); one v1 per secret while a secret is being rotated.",
					"t=1772443800,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"),
			},
			"requestBody": obj{"required": true, "content": obj{"application/json": obj{"schema": ref("WebhookPayload"), "example": example}}},
			"responses": obj{
				"200": obj{"description": "Any 2xx: delivered. Anything else is retried with backoff (408, 429 and 5xx; a Retry-After is honoured), up to " + strconv.Itoa(baton.MaxDeliveryAttempts) + " attempts."},
				"410": obj{"description": "Any other 4xx: not retried."},
			},
		}}
	}
	return out
}

// webhookOperationID is lead.sent_back's leadSentBackWebhook.
func webhookOperationID(event string) string {
	var b strings.Builder
	for i, part := range strings.FieldsFunc(event, func(r rune) bool { return r == '.' || r == '_' }) {
		if i > 0 {
			part = strings.ToUpper(part[:1]) + part[1:]
		}
		b.WriteString(part)
	}
	return b.String() + "Webhook"
}

func header(name, desc, example string) obj {
	return obj{"name": name, "in": "header", "required": true, "description": desc, "schema": obj{"type": "string"}, "example": example}
}
