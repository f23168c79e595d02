//! `--ask-codes` (SPEC section 7): the person at the terminal types each code
//! as soon as it was requested. One prompt at a time, on a thread of its own,
//! so the other rows keep going while one waits; an empty answer leaves the
//! row waiting (`code_requested`); Ctrl-C still stops the run (the runner
//! stops waiting; the thread is left blocked on its read and ends with the
//! process). The code typed is never echoed back or logged.

use std::io::{BufRead, Write};
use std::pin::Pin;
use std::sync::{Arc, Mutex, mpsc};

use tokio::sync::oneshot;

use crate::runner::CodeSource;
use crate::send::Code;
use crate::validate::ValidRow;

struct Ask {
    question: String,
    answer: oneshot::Sender<Option<Code>>,
}

/// Prompts on stderr, answers from `input` (stdin in the binary).
pub struct Prompt {
    asks: Mutex<mpsc::Sender<Ask>>,
}

impl Prompt {
    /// Start the prompt thread reading answers from `input`.
    pub fn start(input: impl BufRead + Send + 'static) -> Prompt {
        let (tx, rx) = mpsc::channel::<Ask>();
        std::thread::spawn(move || serve(rx, input));
        Prompt {
            asks: Mutex::new(tx),
        }
    }
}

fn serve(rx: mpsc::Receiver<Ask>, mut input: impl BufRead) {
    for ask in rx {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "{}", ask.question);
        let _ = err.flush();
        drop(err);
        let mut line = String::new();
        let code = match input.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) if line.trim().is_empty() => None,
            Ok(_) => match Code::parse(&line) {
                Some(code) => Some(code),
                None => {
                    eprintln!("  not a 6-digit code: the row waits (retry later with --codes)");
                    None
                }
            },
        };
        let _ = ask.answer.send(code);
    }
}

/// "Code for +44 7700 900123 (WABA 1022…, Acme Support), empty to skip: ".
fn question(row: &ValidRow, phone_number_id: &str) -> String {
    let name = row
        .verified_name
        .as_deref()
        .map(|n| format!(", {n}"))
        .unwrap_or_default();
    format!(
        "waba-provision: code for +{} {} (id {phone_number_id}, WABA {}{name}), empty to leave it waiting: ",
        row.phone.cc(),
        row.phone.national(),
        row.waba_id
    )
}

impl CodeSource for Prompt {
    fn known(&self, _: &ValidRow, _: &str) -> Option<Code> {
        None
    }

    fn can_ask(&self) -> bool {
        true
    }

    fn ask(
        &self,
        row: Arc<ValidRow>,
        phone_number_id: String,
    ) -> Pin<Box<dyn std::future::Future<Output = Option<Code>> + Send>> {
        let (answer, got) = oneshot::channel();
        let ask = Ask {
            question: question(&row, &phone_number_id),
            answer,
        };
        let sent = self
            .asks
            .lock()
            .map(|tx| tx.send(ask).is_ok())
            .unwrap_or(false);
        Box::pin(async move {
            if !sent {
                return None;
            }
            got.await.ok().flatten()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_in_order_empty_and_bad_answers_leave_the_row_waiting() {
        let input = std::io::Cursor::new(b"123-456\n\nabc\n".to_vec());
        let prompt = Prompt::start(input);
        let row = Arc::new(ValidRow::fixture(1, "7700900001"));
        let a = prompt.ask(row.clone(), "1".into());
        let b = prompt.ask(row.clone(), "2".into());
        let c = prompt.ask(row.clone(), "3".into());
        let d = prompt.ask(row, "4".into());
        assert_eq!(
            a.await.map(|c| c.expose().to_string()).as_deref(),
            Some("123456")
        );
        assert!(b.await.is_none());
        assert!(c.await.is_none());
        assert!(d.await.is_none(), "end of input");
    }
}
