package store

// Internals of the reports, for the tests of package store_test.
var (
	ReportDurationBucket = durationBucket
	ReportBucketHours    = bucketHours
)
