//! Tokio on W1-W6 for bench/compare.py. IMPL is `tokio-ct` (a current_thread runtime driven by
//! one dedicated thread) or `tokio-mt1` (a multi_thread runtime with one worker). Other threads
//! submit with `Handle::spawn`, Tokio's way to run work on a runtime from outside it.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::runtime::{Builder, Handle, Runtime};
use tokio::sync::oneshot;

const W1_ITEMS: i64 = 4_000_000;
const W3_ROUND_TRIPS: usize = 20_000;
const W4_TASKS: usize = 100_000;
const W5_TASKS: usize = 100_000;
const W6_ROUND_TRIPS: usize = 20_000;

fn allowed_cpus() -> Vec<usize> {
    let mut set: CpuSet = [0u64; 16];
    // SAFETY: sched_getaffinity writes at most size_of_val(&set) bytes into `set`.
    let rc = unsafe { sched_getaffinity(0, std::mem::size_of_val(&set), set.as_mut_ptr()) };
    if rc != 0 {
        return vec![];
    }
    (0..1024).filter(|c| set[c / 64] & (1u64 << (c % 64)) != 0).collect()
}

type CpuSet = [u64; 16];
extern "C" {
    fn sched_getaffinity(pid: i32, size: usize, mask: *mut u64) -> i32;
    fn sched_setaffinity(pid: i32, size: usize, mask: *const u64) -> i32;
}

/// Pins the calling thread to the `index`-th allowed CPU when `cross` is on.
fn pin_self(cross: bool, index: usize) {
    if !cross {
        return;
    }
    let cpus = allowed_cpus();
    if cpus.len() < 2 {
        eprintln!("cross pinning needs two CPUs");
        std::process::exit(2);
    }
    let cpu = cpus[index % cpus.len()];
    let mut set: CpuSet = [0u64; 16];
    set[cpu / 64] |= 1u64 << (cpu % 64);
    // SAFETY: pid 0 is the calling thread; the mask is a valid cpu_set_t-sized buffer.
    unsafe { sched_setaffinity(0, std::mem::size_of_val(&set), set.as_ptr()) };
}

/// A runtime that runs until dropped, and the handle other threads submit through.
struct Loop {
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _runtime: Option<Runtime>,
}

impl Loop {
    fn new(impl_name: &str, cross: bool, cpu: usize) -> Loop {
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        if impl_name == "tokio-ct" {
            let (handle_tx, handle_rx) = std::sync::mpsc::channel();
            let thread = std::thread::spawn(move || {
                pin_self(cross, cpu);
                let rt = Builder::new_current_thread().enable_time().build().unwrap();
                handle_tx.send(rt.handle().clone()).unwrap();
                rt.block_on(async move {
                    let _ = stop_rx.await;
                });
            });
            Loop { handle: handle_rx.recv().unwrap(), stop: Some(stop_tx), thread: Some(thread), _runtime: None }
        } else {
            let rt = Builder::new_multi_thread()
                .worker_threads(1)
                .enable_time()
                .on_thread_start(move || pin_self(cross, cpu))
                .build()
                .unwrap();
            drop(stop_rx);
            Loop { handle: rt.handle().clone(), stop: Some(stop_tx), thread: None, _runtime: Some(rt) }
        }
    }

    /// Runs `fut` on the runtime and blocks this thread for its result.
    fn run<T: Send + 'static>(&self, fut: impl std::future::Future<Output = T> + Send + 'static) -> T {
        let (tx, rx) = oneshot::channel();
        self.handle.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.blocking_recv().unwrap()
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

fn print_latency(workload: &str, name: &str, key: &str, mut us: Vec<f64>) {
    us.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |q: f64| us[((q * us.len() as f64) as usize).min(us.len() - 1)];
    println!("{workload} {name} {key}={:.2} p99_us={:.2} p999_us={:.2}", at(0.5), at(0.99), at(0.999));
}

fn callbacks(name: &str, workload: &str, producers: i64, cross: bool) {
    let target = Loop::new(name, cross, 1);
    let per = W1_ITEMS / producers;
    let ran = Arc::new(AtomicI64::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..producers)
        .map(|_| {
            let handle = target.handle.clone();
            let ran = ran.clone();
            std::thread::spawn(move || {
                pin_self(cross, 0);
                for _ in 0..per {
                    let ran = ran.clone();
                    handle.spawn(async move {
                        ran.fetch_add(1, Ordering::Relaxed);
                    });
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    while ran.load(Ordering::Acquire) < per * producers {
        std::thread::yield_now();
    }
    let rate = (per * producers) as f64 / start.elapsed().as_secs_f64();
    println!("{workload} {name} callbacks_per_s={rate:.0}");
}

fn round_trips_from_thread(name: &str, cross: bool) {
    let target = Loop::new(name, cross, 1);
    pin_self(cross, 0);
    let mut us = Vec::with_capacity(W3_ROUND_TRIPS);
    for _ in 0..W3_ROUND_TRIPS {
        let t0 = Instant::now();
        assert_eq!(target.run(async { 42 }), 42);
        us.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    print_latency("W3", name, "p50_us", us);
}

fn spawn(name: &str) {
    let target = Loop::new(name, false, 0);
    let start = Instant::now();
    target.run(async {
        let tasks: Vec<_> = (0..W4_TASKS).map(|_| tokio::spawn(async { 42 })).collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), 42);
        }
    });
    println!("W4 {name} tasks_per_s={:.0}", W4_TASKS as f64 / start.elapsed().as_secs_f64());
}

fn resident_bytes() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<i64>().ok())
        .unwrap_or(0)
        * 1024
}

fn sleepers(name: &str) {
    let target = Loop::new(name, false, 0);
    let before = resident_bytes();
    let start = Instant::now();
    let per_task = target.run(async move {
        let tasks: Vec<_> =
            (0..W5_TASKS).map(|_| tokio::spawn(tokio::time::sleep(Duration::from_secs(2)))).collect();
        tokio::task::yield_now().await; // every task has been polled once and sleeps
        let per_task = (resident_bytes() - before) / W5_TASKS as i64;
        for t in tasks {
            t.await.unwrap();
        }
        per_task
    });
    println!("W5 {name} bytes_per_task={per_task} wall_s={:.3}", start.elapsed().as_secs_f64());
}

fn round_trips_between_loops(name: &str, cross: bool) {
    let first = Loop::new(name, cross, 0);
    let second = Loop::new(name, cross, 1);
    let other = second.handle.clone();
    let us = first.run(async move {
        let mut us = Vec::with_capacity(W6_ROUND_TRIPS);
        for _ in 0..W6_ROUND_TRIPS {
            let t0 = Instant::now();
            assert_eq!(other.spawn(async { 1 }).await.unwrap(), 1);
            us.push(t0.elapsed().as_secs_f64() * 1e6);
        }
        us
    });
    print_latency("W6", name, "rt_us", us);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 || (args[1] != "tokio-ct" && args[1] != "tokio-mt1") {
        eprintln!("usage: tokio_peer tokio-ct|tokio-mt1 W1..W6 none|cross|cpu0");
        std::process::exit(2);
    }
    let (name, workload, cross) = (args[1].as_str(), args[2].as_str(), args[3] == "cross");
    match workload {
        "W1" => callbacks(name, "W1", 1, cross),
        "W2" => callbacks(name, "W2", 2, cross),
        "W3" => round_trips_from_thread(name, cross),
        "W4" => spawn(name),
        "W5" => sleepers(name),
        "W6" => round_trips_between_loops(name, cross),
        _ => std::process::exit(2),
    }
}
