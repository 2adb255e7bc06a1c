//! Reading a snapshot file: one thread reads while the caller's thread parses.

use super::{Error, HeapSnapshot, Parser};
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::mpsc;

const BLOCK: usize = 1 << 20;

/// Streams the file through a [`Parser`], reading on a second thread.
pub fn read_file(path: &Path) -> Result<HeapSnapshot, Error> {
    let mut file = File::open(path)
        .map_err(|e| Error::io(e, None, &format!("cannot open {}", path.display())))?;
    let mut clock = super::Timings::start();
    let mut parser = Parser::new();
    let (full_tx, full_rx) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(4);
    let (empty_tx, empty_rx) = mpsc::channel::<Vec<u8>>();
    for _ in 0..6 {
        let _ = empty_tx.send(vec![0u8; BLOCK]);
    }
    std::thread::scope(|scope| {
        scope.spawn(move || loop {
            let Ok(mut buf) = empty_rx.recv() else { return };
            buf.resize(BLOCK, 0);
            let mut filled = 0;
            let result = loop {
                match file.read(&mut buf[filled..]) {
                    Ok(0) => break Ok(()),
                    Ok(k) => {
                        filled += k;
                        if filled == BLOCK {
                            break Ok(());
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            buf.truncate(filled);
            let done = filled == 0;
            let message = result.map(|()| buf);
            let failed = message.is_err();
            if full_tx.send(message).is_err() || done || failed {
                return;
            }
        });
        let result = (|| {
            for message in full_rx.iter() {
                let buf = message.map_err(|e| {
                    Error::io(
                        e,
                        Some(parser.bytes_fed()),
                        &format!("cannot read {}", path.display()),
                    )
                })?;
                if buf.is_empty() {
                    break;
                }
                parser.feed(&buf)?;
                let _ = empty_tx.send(buf);
            }
            Ok(())
        })();
        drop(empty_tx);
        drop(full_rx);
        result
    })?;
    clock.lap("read and parse");
    parser.finish()
}
