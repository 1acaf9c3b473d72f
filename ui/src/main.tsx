import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { Api } from './api.js';
import type { Preloaded } from './api.js';
import { App, chosenType } from './App.js';
import { cardProperties } from './use-board-data.js';
import { loadToken } from './session.js';
import './styles.css';

/** How long a signed-in tab waits for its board's first reads before rendering without them. */
const PRELOAD_WAIT_MS = 1500;

const root = document.getElementById('root');
const start = (preloaded?: Preloaded) => {
  if (root === null) return;
  createRoot(root).render(
    <StrictMode>
      <App preloaded={preloaded} />
    </StrictMode>,
  );
};

const token = loadToken();
if (token === undefined) {
  start();
} else {
  const type = chosenType();
  const late = new Promise<undefined>((resolve) => setTimeout(resolve, PRELOAD_WAIT_MS, undefined));
  Promise.race([new Api(token).preload(type, cardProperties(type)), late]).then(start, () => start());
}
