/**
 * How a closed circuit decides to open. Each policy lives in its own file under `policies/`.
 *
 * - `consecutive`: `failureThreshold` failures in a row (the default).
 * - `count-window`: the failure rate over the last `windowSize` calls reaches `failureRateThreshold`,
 *   once at least `minimumCalls` calls are in the window.
 * - `time-window`: the failure rate over the last `windowDuration` ms (in `windowBuckets` buckets)
 *   reaches `failureRateThreshold`, once at least `minimumCalls` calls are in the window.
 * - `slow-call`: over the last `windowSize` calls, the share of calls slower than `slowCallDuration`
 *   reaches `slowCallRateThreshold`, or the failure rate reaches `failureRateThreshold`.
 */
export type TripPolicyName = 'consecutive' | 'count-window' | 'time-window' | 'slow-call';
