// Every dictionary of the console: each module exports { 'zh-CN': {...}, en: {...} }.
import core from './core.js';
import signin from './signin.js';
import customers from './customers.js';
import requests from './requests.js';
import admin from './admin.js';
import watch from './watch_index.js';
import incidents from './incidents.js';
import training from './training.js';

export default [core, signin, customers, requests, admin, ...watch, incidents, training];
