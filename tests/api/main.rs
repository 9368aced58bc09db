mod catalog;
mod errors;
mod playlists;
mod scan;
mod search;
mod shutdown;
mod stream;
mod support;
