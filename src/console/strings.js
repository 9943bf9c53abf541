// Every string of the console, one table per language (strings-kk.js, strings-ru.js,
// strings-en.js). Keys are the same in each table (test/console/strings.test.ts checks it);
// `{name}` is filled in by the page.
import { kk } from './strings-kk.js';
import { ru } from './strings-ru.js';
import { en } from './strings-en.js';

export const STRINGS = { kk, ru, en };
export const LANGUAGES = Object.keys(STRINGS);
