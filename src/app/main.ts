import { mount } from 'svelte';
import App from './App.svelte';
import { initLocale } from './i18n/index.svelte.ts';
import { loadHostConfig } from './lib/config.ts';
import { credentials } from './state/credentials.svelte.ts';
import { session } from './state/session.svelte.ts';
import { settings } from './state/settings.svelte.ts';
import './styles/base.css';
import './styles/controls.css';
import './styles/data.css';
import './styles/narrow.css';

// config.json first: the host's defaults (relay, mirror, …) must be in place before the first resolve.
const host = await loadHostConfig();
initLocale(host.language);
settings.init(host);
credentials.init();
session.init();
mount(App, { target: document.getElementById('app')! });
