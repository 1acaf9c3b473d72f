// The compatibility scenario (sdk-scenario.ts) for @hubspot/api-client 12.x.
import { Client } from 'hubspot-api-client-12';

import { sdkScenario, type CompatClient } from './sdk-scenario.js';

sdkScenario({
  major: 12,
  module: 'hubspot-api-client-12',
  connect: (accessToken, basePath) => new Client({ accessToken, basePath }) as unknown as CompatClient,
});
