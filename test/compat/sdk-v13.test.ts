// The compatibility scenario (sdk-scenario.ts) for @hubspot/api-client 13.x.
import { Client } from 'hubspot-api-client-13';

import { sdkScenario, type CompatClient } from './sdk-scenario.js';

sdkScenario({
  major: 13,
  module: 'hubspot-api-client-13',
  connect: (accessToken, basePath) => new Client({ accessToken, basePath }) as unknown as CompatClient,
});
