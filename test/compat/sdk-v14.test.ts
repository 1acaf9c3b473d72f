// The compatibility scenario (sdk-scenario.ts) for @hubspot/api-client 14.x.
import { Client } from 'hubspot-api-client-14';

import { sdkScenario, type CompatClient } from './sdk-scenario.js';

sdkScenario({
  major: 14,
  module: 'hubspot-api-client-14',
  connect: (accessToken, basePath) => new Client({ accessToken, basePath }) as unknown as CompatClient,
});
