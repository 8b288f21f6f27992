/** Lambda entry of flush-groups (wiring only; see app.ts): the handler in the shared plumbing (middy + Powertools). */
import { withPlumbing } from '../../shared/adapters/observability/middy.ts';
import { createFlushGroupsHandler, flushGroupsDepsFromEnv } from './app.ts';

const deps = await flushGroupsDepsFromEnv(process.env);

/** The group-flush SQS handler. */
export const handler = withPlumbing(createFlushGroupsHandler(deps), deps);
