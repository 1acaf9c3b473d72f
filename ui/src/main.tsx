import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { Api } from './api.js';
import { App, cardProperties, chosenType } from './App.js';
import { loadToken } from './session.js';
import './styles.css';

// A tab that is signed in already asks for its board's data before React renders anything.
const token = loadToken();
if (token !== undefined) {
  const type = chosenType();
  new Api(token).warmUp(type, cardProperties(type));
}

const root = document.getElementById('root');
if (root !== null) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
