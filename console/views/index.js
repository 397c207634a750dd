// The console's views, in the navigation's order. What a role cannot use is not listed (and
// answers "not available" when its address is typed).
import customers from './customers.js';
import requests from './requests.js';
import admin from './admin.js';
import account from './account.js';
import watch from './watch_index.js';
import incidents from './incidents.js';
import training from './training.js';
import trainingReport from './training_report.js';

export default [customers, requests, ...watch, incidents, training, trainingReport, admin, account];
