// The watch-and-check views (alerts, violations, audit, overview), registered with the shell.
import alerts from './alerts.js';
import violations from './violations.js';
import audit from './audit.js';
import overview from './overview.js';

export default [alerts, violations, audit, overview];
