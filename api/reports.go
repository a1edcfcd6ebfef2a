package api

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sealv1 "github.com/ronganxian/eseal/proto/seal/v1"
	"github.com/ronganxian/eseal/seal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// reportServer sums up the ledger: timeliness (限时办结) per township and
// item, for whoever may read the records (Scope).
type reportServer struct {
	sealv1.UnimplementedReportServiceServer
	ledger *seal.Ledger
}

func (s *reportServer) Timeliness(ctx context.Context, req *sealv1.TimelinessRequest) (*sealv1.TimelinessResponse, error) {
	if req.From == nil || req.To == nil {
		return nil, status.Error(codes.InvalidArgument, "timeliness needs the period: from and to")
	}
	rows, err := s.ledger.Timeliness(ctx, PrincipalFrom(ctx), seal.RecordFilter{Township: req.TownshipCode},
		req.From.AsTime(), req.To.AsTime())
	if errors.Is(err, seal.ErrBadPeriod) {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	if err != nil {
		return nil, toStatus(err)
	}
	out := &sealv1.TimelinessResponse{}
	for _, r := range rows {
		out.Rows = append(out.Rows, &sealv1.TimelinessRow{TownshipCode: r.Township, ItemCode: r.Item, OnTime: uint32(r.OnTime),
			Late: uint32(r.Late), Unknown: uint32(r.Unknown), MedianDaysUsed: r.MedianUsed, MaxDaysLate: uint32(r.MaxLate)})
	}
	return out, nil
}

// timelinessCollector exports the last 30 days' timeliness as gauges,
// per township and item, recounted at most once a minute (a count reads
// the ledger).
type timelinessCollector struct {
	ledger               *seal.Ledger
	onTime, late, median *prometheus.Desc
	mu                   sync.Mutex
	rows                 []seal.TimelinessRow
	counted              time.Time
	now                  func() time.Time
}

// timelinessWindow is the period the gauges cover, ending now.
const timelinessWindow = 30 * 24 * time.Hour

func newTimelinessCollector(l *seal.Ledger) *timelinessCollector {
	labels := []string{"township", "item"}
	return &timelinessCollector{ledger: l, now: time.Now,
		onTime: prometheus.NewDesc("eseal_timeliness_on_time", "Sealings of the last 30 days that kept the item's time limit (限时办结).", labels, nil),
		late:   prometheus.NewDesc("eseal_timeliness_late", "Sealings of the last 30 days after the item's time limit.", labels, nil),
		median: prometheus.NewDesc("eseal_timeliness_median_days_used", "Median working days used by the last 30 days' sealings.", labels, nil),
	}
}

func (c *timelinessCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.onTime
	ch <- c.late
	ch <- c.median
}

func (c *timelinessCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := c.now(); now.Sub(c.counted) >= time.Minute {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		rows, err := c.ledger.Timeliness(ctx, &seal.Principal{ID: "metrics", Role: seal.RoleAdmin}, seal.RecordFilter{}, now.Add(-timelinessWindow), now)
		cancel()
		if err == nil {
			c.rows, c.counted = rows, now
		}
	}
	for _, r := range c.rows {
		ch <- prometheus.MustNewConstMetric(c.onTime, prometheus.GaugeValue, float64(r.OnTime), r.Township, r.Item)
		ch <- prometheus.MustNewConstMetric(c.late, prometheus.GaugeValue, float64(r.Late), r.Township, r.Item)
		ch <- prometheus.MustNewConstMetric(c.median, prometheus.GaugeValue, r.MedianUsed, r.Township, r.Item)
	}
}
