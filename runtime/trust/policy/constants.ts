/**
 * Bounds on policy texts. A policy arrives from a CLI flag, a config file or the control API;
 * these keep a hostile or mistaken one from costing more than a few microseconds to refuse.
 */

/**
 * Longest policy text accepted, in UTF-16 code units, checked before anything is scanned.
 * Real policies are a few hundred characters; 8 KiB leaves room for long member? lists.
 */
export const DEFAULT_POLICY_MAX_LENGTH = 8192

/**
 * Deepest tree of boolean nodes accepted (the root counts 1; `role.analyst and not contractor`
 * is 3 deep). Short-form parentheses may not nest deeper than this either. Bounds the parser's,
 * formatter's and evaluator's recursion so nesting yields an error, never a stack overflow.
 */
export const DEFAULT_POLICY_MAX_DEPTH = 32

/**
 * Most digits a number may have (literal or numeric attribute), sign and point excluded. Any
 * decimal of at most 15 digits survives the trip through an IEEE double exactly, so numeric
 * comparison never silently rounds; longer numbers are refused instead.
 */
export const POLICY_NUMBER_MAX_DIGITS = 15
