package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/batonhq/baton"
)

// SlackLinks are the addresses a Slack message's buttons open.
type SlackLinks struct {
	// Lead opens the lead's page.
	Lead string
	// Accept, when set, opens the lead's page with the accept button in
	// front, through a signed, short-lived link (baton.AcceptLink); the rep
	// still signs in and presses the button.
	Accept string
}

// slackHeadings are the words before a note's title, by kind.
var slackHeadings = map[string]string{
	baton.SlackNewMQL:    ":inbox_tray: New MQL",
	baton.SlackNewSQL:    ":handshake: SQL handed over",
	baton.SlackReminder:  ":hourglass_flowing_sand: Answer soon",
	baton.SlackBreach:    ":rotating_light: SLA breached",
	baton.SlackRejection: ":leftwards_arrow_with_hook: Rejected by sales",
}

// SlackMessage returns the Block Kit message of a note for an incoming
// webhook: a header, the note's words with the lead, its owner and its
// deadline, and link buttons to open the lead and, for an open handoff, to
// accept it. text is the notification's plain words, for clients that show
// no blocks.
func SlackMessage(n baton.SlackNote, links SlackLinks) ([]byte, error) {
	heading, ok := slackHeadings[n.Kind]
	if !ok {
		return nil, fmt.Errorf("slack: unknown kind %q", n.Kind)
	}
	fields := []map[string]any{mrkdwn("*Lead*\n" + slackEscape(n.Name))}
	if n.Owner != "" {
		fields = append(fields, mrkdwn("*Owner*\n"+slackEscape(n.Owner)))
	}
	if n.DueAt != nil {
		// Slack shows the date in each reader's own time zone.
		fields = append(fields, mrkdwn(fmt.Sprintf("*Due*\n<!date^%d^{date_short_pretty} {time}|%s>", n.DueAt.Unix(), n.DueAt.UTC().Format("2006-01-02 15:04 UTC"))))
	}
	buttons := []map[string]any{}
	if links.Lead != "" {
		buttons = append(buttons, button("open_lead", "Open lead", links.Lead, ""))
	}
	if links.Accept != "" {
		buttons = append(buttons, button("accept_lead", "Accept…", links.Accept, "primary"))
	}
	blocks := []map[string]any{
		{"type": "header", "text": map[string]any{"type": "plain_text", "text": clip(heading+": "+n.Name, 150), "emoji": true}},
		{"type": "section", "text": mrkdwn(clip(slackEscape(n.Text), 3000)), "fields": fields},
	}
	if len(buttons) > 0 {
		blocks = append(blocks, map[string]any{"type": "actions", "block_id": fmt.Sprintf("lead_%d", n.LeadID), "elements": buttons})
	}
	blocks = append(blocks, map[string]any{"type": "context", "elements": []map[string]any{mrkdwn(fmt.Sprintf("Baton · lead #%d", n.LeadID))}})
	return json.Marshal(map[string]any{"text": clip(n.Title+": "+n.Text, 3000), "blocks": blocks})
}

func mrkdwn(s string) map[string]any { return map[string]any{"type": "mrkdwn", "text": s} }

func button(action, text, url, style string) map[string]any {
	b := map[string]any{"type": "button", "action_id": action, "text": map[string]any{"type": "plain_text", "text": text}, "url": url}
	if style != "" {
		b["style"] = style
	}
	return b
}

// slackEscape escapes the three characters Slack's mrkdwn gives meaning to
// as markup (a lead named "<!channel>" must not ping a channel).
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// clip cuts s to at most n characters, with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
