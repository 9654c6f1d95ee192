//! HTTP tests through the real router on loopback, against the backend chosen by
//! `WAGATE_TEST_BACKEND` (one test binary, as the suite's entry point).

mod access_matrix;
mod api_keys;
mod channels;
mod contacts;
mod events;
mod fuzz;
mod groups;
mod inbound_batches;
mod jwt;
mod lifecycle;
mod media;
mod messaging;
mod openapi;
mod outbox;
mod presence;
mod probes;
mod realtime;
mod sessions;
mod status;
mod transport;
mod webhooks;
