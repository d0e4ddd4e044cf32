package api

import (
	"context"
	"log/slog"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/batonhq/baton"
)

// statsCollector exports the business metrics (baton.Stats), read from
// storage at each scrape, within statsTimeout. If storage does not answer,
// the scrape still answers, with baton_stats_up 0 and nothing else of it.
type statsCollector struct {
	svc    baton.StatsService
	logger *slog.Logger
}

const statsTimeout = 5 * time.Second

// The business metrics, one description each. The README lists them.
var (
	descStatsUp = prometheus.NewDesc("baton_stats_up",
		"1 if the business metrics below were read from the database at this scrape, 0 if it did not answer.", nil, nil)
	descMQLs = prometheus.NewDesc("baton_mqls_promoted_total",
		"Leads that became MQLs (promoted by the policy or by hand, or pulled by a rep), counted by this instance.", nil, nil)
	descEvents = prometheus.NewDesc("baton_events_ingested_total",
		"Events sent to this instance, by result: created, duplicate (a retry, stored once), rejected.", []string{"result"}, nil)
	descBreaches = prometheus.NewDesc("baton_handoffs_breached_total",
		"Handoffs that passed their deadline unanswered, by kind (sdr, ae), counted by this instance.", []string{"kind"}, nil)
	descDeliveries = prometheus.NewDesc("baton_outbox_deliveries_total",
		"Delivery attempts of this instance by channel (email, webhook, slack) and result: delivered, failed (to be retried), dead (given up).",
		[]string{"channel", "result"}, nil)
	descOpen = prometheus.NewDesc("baton_handoffs_open",
		"Handoffs awaiting an answer now, by kind (sdr, ae).", []string{"kind"}, nil)
	descPastDue = prometheus.NewDesc("baton_handoffs_past_due",
		"Open handoffs past their deadline whose breach is not yet recorded (the SLA sweeper is behind), by kind.", []string{"kind"}, nil)
	descSLAMet = prometheus.NewDesc("baton_sla_met_ratio",
		"Of the handoffs assigned in the last 30 days and answered or breached since, the share answered within the window, by kind (NaN: none).",
		[]string{"kind"}, nil)
	descSLADecided = prometheus.NewDesc("baton_sla_decided_handoffs",
		"The handoffs baton_sla_met_ratio is over: assigned in the last 30 days, answered or breached since, by kind.", []string{"kind"}, nil)
	descJobsDue = prometheus.NewDesc("baton_jobs_due",
		"Background jobs due and not done (the backlog), by kind.", []string{"kind"}, nil)
	descJobsOldest = prometheus.NewDesc("baton_jobs_oldest_due_seconds",
		"How long the oldest job due and not done has waited, by kind.", []string{"kind"}, nil)
	descOutboxPending = prometheus.NewDesc("baton_outbox_pending",
		"Messages waiting to be delivered, by channel (email, webhook, slack).", []string{"channel"}, nil)
	descOutboxDead = prometheus.NewDesc("baton_outbox_dead",
		"Messages given up after their attempts, by channel.", []string{"channel"}, nil)
	descRescoring = prometheus.NewDesc("baton_rescore_running",
		"1 while every lead is being rescored after a policy publication or a model activation.", nil, nil)
	descRescore = prometheus.NewDesc("baton_rescore_progress_ratio",
		"How far the rescore is through the leads, 0 to 1 (1 when none runs).", nil, nil)
	descPolicy = prometheus.NewDesc("baton_policy_version",
		"The version of the scoring policy in force (0: none published).", nil, nil)
	descModel = prometheus.NewDesc("baton_model_version",
		"The version of the active predictive model (0: none).", nil, nil)
	descReads = prometheus.NewDesc("baton_db_read_transactions_total",
		"Read transactions begun by this instance, by where they ran: primary, or replica (the reads that may lag, with --read-db).",
		[]string{"on"}, nil)
	descReplicaUsed = prometheus.NewDesc("baton_db_replica_used",
		"1 while the read replica takes the reads that may lag, 0 while they go to the primary (it is down, not a standby, or lags past the bound).",
		[]string{"replica"}, nil)
	descReplicaLag = prometheus.NewDesc("baton_db_replica_lag_seconds",
		"How far the read replica was behind the primary at its last check.", []string{"replica"}, nil)
)

func (c statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descStatsUp, descMQLs, descEvents, descBreaches, descDeliveries, descOpen, descPastDue,
		descSLAMet, descSLADecided, descJobsDue, descJobsOldest, descOutboxPending, descOutboxDead, descRescoring, descRescore,
		descPolicy, descModel, descReads, descReplicaUsed, descReplicaLag} {
		ch <- d
	}
}

func (c statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	s, err := c.svc.Stats(ctx)
	if err != nil {
		c.logger.Error("metrics: reading the business metrics", "err", err)
		ch <- prometheus.MustNewConstMetric(descStatsUp, prometheus.GaugeValue, 0)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(descStatsUp, 1)
	counter(descMQLs, s.Counts.MQLsPromoted)
	for _, r := range []string{"created", "duplicate", "rejected"} {
		counter(descEvents, s.Counts.Events[r], r)
	}
	for _, k := range []baton.HandoffKind{baton.HandoffSDR, baton.HandoffAE} {
		counter(descBreaches, s.Counts.Breaches[k], string(k))
		gauge(descOpen, float64(s.OpenHandoffs[k]), string(k))
		gauge(descPastDue, float64(s.PastDueHandoffs[k]), string(k))
		ratio := math.NaN()
		if n := s.SLADecided[k]; n > 0 {
			ratio = float64(s.SLAMet[k]) / float64(n)
		}
		gauge(descSLAMet, ratio, string(k))
		gauge(descSLADecided, float64(s.SLADecided[k]), string(k))
	}
	for _, channel := range []string{"email", "webhook", "slack"} {
		for _, r := range []string{"delivered", "failed", "dead"} {
			counter(descDeliveries, s.Counts.Deliveries[baton.DeliveryCount{Channel: channel, Result: r}], channel, r)
		}
		gauge(descOutboxPending, float64(s.OutboxPending[channel]), channel)
		gauge(descOutboxDead, float64(s.OutboxDead[channel]), channel)
	}
	for kind, n := range s.JobsDue {
		gauge(descJobsDue, float64(n), kind)
		gauge(descJobsOldest, s.JobsOldestDue[kind].Seconds(), kind)
	}
	rescoring := 0.0
	if s.Rescoring {
		rescoring = 1
	}
	gauge(descRescoring, rescoring)
	gauge(descRescore, s.RescoreProgress)
	gauge(descPolicy, float64(s.PolicyVersion))
	gauge(descModel, float64(s.ModelVersion))
	for _, on := range []string{"primary", "replica"} {
		counter(descReads, s.Counts.Reads[on], on)
	}
	for _, r := range s.Replicas {
		used := 0.0
		if r.Used {
			used = 1
		}
		gauge(descReplicaUsed, used, r.Name)
		gauge(descReplicaLag, r.LagSeconds, r.Name)
	}
}
