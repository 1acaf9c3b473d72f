// The compatibility scenario (sdk-scenario.ts) for @hubspot/api-client 10.x.
import { Client } from 'hubspot-api-client-10';

import { sdkScenario, type CompatClient } from './sdk-scenario.js';

sdkScenario({
  major: 10,
  module: 'hubspot-api-client-10',
  connect: (accessToken, basePath) => new Client({ accessToken, basePath }) as unknown as CompatClient,
});
