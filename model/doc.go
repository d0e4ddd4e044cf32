// Package model scores leads: it learns P(convert) from leads with known
// outcomes and explains every prediction as per-column reasons. The core is
// pure Go with no I/O; ReadCSV and RunEval work on io.Reader/io.Writer and
// files named on the command line.
//
// # Method
//
// Every column that is not excluded becomes one feature. A column is
// numeric when every non-missing value parses as a number, otherwise
// categorical. Empty cells, absent keys and the form placeholder "Select"
// are missing. Categorical values are trimmed and case-folded ("google" and
// "Google" are the same source); values seen in fewer than
// Config.MinCategoryCount training rows, and values never seen in training,
// share the bin "(other)". Numbers are cut into at most Config.MaxBins
// quantile bins, so long tails (TotalVisits, time on site) need no
// transformation. Missing is a bin of its own for every feature. Columns
// that are entirely missing or constant are dropped.
//
// The score is the average, in log-odds, of two models fitted on these
// bins (Config.LinearWeight, default one half each):
//
//   - gradient-boosted regression trees on the log-loss (Newton leaf
//     values with an L2 penalty, histogram split search with the sibling
//     subtraction trick, depth 4, shrinkage 0.05, 300 rounds, at least 20
//     rows per leaf, 80% row subsampling per tree from a seeded PCG
//     generator). Numeric splits are thresholds with the missing bin sent
//     to whichever side gains more; categorical splits order the node's
//     categories by gradient ratio and take the best prefix, so one split
//     can group any set of values;
//   - an L2-regularised logistic regression (Newton's method) with one
//     weight per bin of every feature plus, for numeric columns, a slope on
//     the standardized signed log1p of the value clipped to ±5 SD.
//
// The defaults are generic choices made before looking at evaluation
// results, not values searched on the X Education file. Training is
// deterministic for a given Config.Seed. The model stores a linear
// calibration of the blended log-odds (slope and intercept, applied in
// Predict and Explain); it is currently the identity, because the blend's
// out-of-fold reliability on X Education is already within a few points in
// every bin (see TestReliability).
//
// Evaluate computes ROC AUC, log loss, Brier score and precision and lift
// in the top 10% of scores; CrossValidate pools out-of-fold predictions of
// stratified, seeded folds. NaiveBayes is the baseline every change should
// beat: categorical naive Bayes with add-one smoothing on the same bins.
//
// # Excluded columns
//
// Config.Exclude lists columns never used. XEducationExclusions, the
// default in DefaultConfig, removes the identifiers Prospect ID and Lead
// Number, which carry no signal that generalises, and every column the
// sales team fills in after contacting the lead: Tags, Lead Quality, Lead
// Profile, Last Notable Activity and the four Asymmetrique index and score
// columns. Those encode the outcome of the conversation, so using them
// would leak the label and inflate offline accuracy while being unavailable
// when a new lead has to be scored. Model.Features lists what is used.
//
// # Reasons
//
// Explain attributes the prediction to columns additively in log-odds, so
// that BaseLogOdds + sum(Factor.Contribution) = logit(Probability) up to
// floating-point rounding (tested to 1e-9).
//
// For the trees, every node stores the expected output of its subtree (the
// training-row weighted mean of its leaves). Following the lead's path, each
// step from a node to its child adds child minus parent to the column the
// node splits on (Saabas path attribution); the steps telescope from the
// root's expected value to the leaf. For the logistic regression, a
// column's contribution is its term for this lead minus the term's training
// mean. Both are weighted by the blend and the calibration slope; the
// weighted expected values and the calibration intercept form BaseLogOdds.
// Each column yields at most one Factor, with the lead's raw value (or
// "(missing)"), sorted by absolute contribution. Path attribution is fast
// and exact in sum but, unlike TreeSHAP, can favour splits near the root.
//
// # Reasons in percentage points
//
// A rep reads probability, not log-odds, so every Factor also carries
// PercentPoints: its share of Probability - BaseProbability, where
// BaseProbability = sigmoid(BaseLogOdds). The sigmoid is not additive, so
// some rule has to share the move among the factors; Explain converts every
// contribution at one rate, the sigmoid's average slope between the base
// log-odds L0 and the lead's L:
//
//	PercentPoints_i = 100 * Contribution_i * (Probability - BaseProbability) / (L - L0)
//
// (the slope at the midpoint when L = L0). This is the "rescale" rule of
// DeepLIFT applied to the final sigmoid. It adds up exactly (to
// floating-point rounding), keeps every factor's sign, gives equal
// contributions equal points, does not depend on the order of the factors,
// and ranks them as their contributions do. The alternatives are worse for
// a reader: "the probability minus the probability without this factor"
// does not add up (two factors that each carry a lead past the steep middle
// of the sigmoid each get little), and a sequential decomposition (each
// factor measured after the larger ones) gives two equal contributions
// different points depending on which one comes first. Exact Shapley values
// of the sigmoid would cost time exponential in the number of factors.
//
// For a numeric column the trees split on, the Factor also names the split
// point on the lead's path that moved it most in the direction of its
// Contribution (Threshold, and Over: the lead's value is above it, or at
// most it), so that a reason can say "time on site over 600" instead of the
// raw number: a true statement about the lead, at the point where the
// model's answer changes.
package model
