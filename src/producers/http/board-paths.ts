// Where Bull Board and its sign-in page are served.
export const BOARD_PATH = '/admin/queues';
export const READ_ONLY_BOARD_PATH = '/admin/queues-read-only';
export const LOGIN_PATH = '/admin/login';
