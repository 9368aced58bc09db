//! Readers of file formats, reading only the file or reader they are given: audio tags
//! and properties (`tags`, with lofty), cover art (`covers`) and playlist files (`playlist`:
//! M3U, M3U8, PLS).
//! The catalog's scan and the sources' imports both use them; they depend on `model` only.

pub mod covers;
pub mod playlist;
pub mod tags;
