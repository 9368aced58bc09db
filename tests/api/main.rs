mod catalog;
mod errors;
mod playlists;
mod scan;
mod search;
mod stream;
mod support;
