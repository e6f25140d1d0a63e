// Where Bull Board, its sign-in page, the voice console and the API's sign-in are served.
export const BOARD_PATH = '/admin/queues';
export const READ_ONLY_BOARD_PATH = '/admin/queues-read-only';
/** The board's sign-in page: the sign-in form, going on to the board. */
export const LOGIN_PATH = '/admin/login';
/** The one sign-in (GET: the page; POST: a key as a form or JSON) and its sign-out. */
export const SIGN_IN_PATH = '/login';
export const SIGN_OUT_PATH = '/logout';
/** The voice console (console-routes.ts); its files under `/console/assets/` and `/console/vendor/`. */
export const CONSOLE_PATH = '/console';
