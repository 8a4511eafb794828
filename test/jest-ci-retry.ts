/**
 * On CI (`CI` set, as `.ci/run` sets it), a failed jest test is run once more, as Playwright's
 * config does for e2e: a timing hiccup on a loaded 2-core runner (a Redis failover or a deadline
 * that a busy machine stretched) does not fail the run, while a real defect fails both tries.
 * The first failure is printed in full before the retry, and `.ci/run` counts them at the end
 * ("passed only on retry"). Locally a failure fails at once.
 */
import { jest } from '@jest/globals';

if (process.env.CI) jest.retryTimes(1, { logErrorsBeforeRetry: true });
