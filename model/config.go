package model

// XEducationExclusions lists the X Education columns that must never be used
// as features: the two identifiers, and every column the sales team fills in
// after contacting the lead (using them would leak the outcome).
var XEducationExclusions = []string{
	"Prospect ID",
	"Lead Number",
	"Tags",
	"Lead Quality",
	"Lead Profile",
	"Last Notable Activity",
	"Asymmetrique Activity Index",
	"Asymmetrique Profile Index",
	"Asymmetrique Activity Score",
	"Asymmetrique Profile Score",
}

// Config controls training. Zero values of the numeric hyperparameters mean
// "use the default" (see DefaultConfig), so Config{} is a valid
// configuration without exclusions.
type Config struct {
	// Exclude lists columns never used as features.
	Exclude []string
	// Seed drives row subsampling and cross-validation folds.
	Seed int64

	// Rounds is the number of boosted trees (default 300).
	Rounds int
	// LearningRate is the shrinkage applied to each tree (default 0.05).
	LearningRate float64
	// MaxDepth is the maximum tree depth (default 4, at most 8).
	MaxDepth int
	// MinLeaf is the minimum number of training rows in a leaf (default 20).
	MinLeaf int
	// L2 is the L2 penalty on leaf values (default 1).
	L2 float64
	// Subsample is the fraction of rows drawn, without replacement, for
	// each tree (default 0.8; set 1 to disable).
	Subsample float64
	// MaxBins caps the number of bins per feature, including the missing
	// bin (default 32, at most 64).
	MaxBins int
	// MinCategoryCount is the number of training rows a categorical value
	// needs to get its own bin; rarer values are grouped into "(other)"
	// (default 20).
	MinCategoryCount int
	// LinearWeight is the weight of an L2 logistic regression blended with
	// the trees in log-odds: logit = (1-w)*trees + w*linear (default 0.5;
	// set it negative to use the trees alone; values above 1 mean 1).
	LinearWeight float64
	// LinearL2 is the L2 penalty of the logistic regression (default 1).
	LinearL2 float64
}

// DefaultConfig returns the defaults with XEducationExclusions.
func DefaultConfig() Config {
	return Config{
		Exclude:          append([]string(nil), XEducationExclusions...),
		Seed:             1,
		Rounds:           300,
		LearningRate:     0.05,
		MaxDepth:         4,
		MinLeaf:          20,
		L2:               1,
		Subsample:        0.8,
		MaxBins:          32,
		MinCategoryCount: 20,
		LinearWeight:     0.5,
		LinearL2:         1,
	}
}

// withDefaults fills zero hyperparameters and clamps out-of-range ones.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Rounds <= 0 {
		c.Rounds = d.Rounds
	}
	if c.LearningRate <= 0 {
		c.LearningRate = d.LearningRate
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = d.MaxDepth
	}
	if c.MaxDepth > 8 {
		c.MaxDepth = 8
	}
	if c.MinLeaf <= 0 {
		c.MinLeaf = d.MinLeaf
	}
	if c.L2 <= 0 {
		c.L2 = d.L2
	}
	if c.Subsample <= 0 || c.Subsample > 1 {
		c.Subsample = d.Subsample
	}
	if c.MaxBins <= 0 {
		c.MaxBins = d.MaxBins
	}
	if c.MaxBins < 4 {
		c.MaxBins = 4
	}
	if c.MaxBins > maxBins {
		c.MaxBins = maxBins
	}
	if c.MinCategoryCount <= 0 {
		c.MinCategoryCount = d.MinCategoryCount
	}
	if c.LinearWeight == 0 {
		c.LinearWeight = d.LinearWeight
	}
	if c.LinearWeight > 1 {
		c.LinearWeight = 1
	}
	if c.LinearL2 <= 0 {
		c.LinearL2 = d.LinearL2
	}
	return c
}
