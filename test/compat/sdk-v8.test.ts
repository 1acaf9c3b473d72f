// The compatibility scenario (sdk-scenario.ts) for @hubspot/api-client 8.x.
import { Client } from 'hubspot-api-client-8';

import { sdkScenario, type CompatClient } from './sdk-scenario.js';

sdkScenario({
  major: 8,
  module: 'hubspot-api-client-8',
  connect: (accessToken, basePath) => new Client({ accessToken, basePath }) as unknown as CompatClient,
});
