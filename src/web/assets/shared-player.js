// The page's one Player (player.js) on the page's <audio> element, asking the server through
// api.js. Every module that plays, shows or steers what plays imports it from here, so they all
// share the same queue.

import { $ } from "./dom.js";
import { api } from "./api.js";
import { Player } from "./player.js";

export const player = new Player($("audio"), api);
