"""The origin story's Lambda, as its team wrote it: scrape the pages named in the event with
requests on a thread pool of MAX_WORKERS, pull each page's title and links with BeautifulSoup, and
write a row per page to PostgreSQL (RDS in production) through psycopg2.

fanout-tuner runs this file unchanged: its small runtime client calls lambda_handler(event,
context) through the Lambda Runtime API, the pages come from the scenario's hosts over real TLS,
and the database is a real PostgreSQL behind a proxy with RDS-like latency.
"""
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import psycopg2.pool
import requests
from bs4 import BeautifulSoup

RETRIES = 2
TIMEOUT_S = 10
DB_CONNECTIONS = 5

# psycopg2's pool raises when all its connections are out; workers wait for one instead.
_free_connections = threading.BoundedSemaphore(DB_CONNECTIONS)

# Opened once per container, outside the handler, as the Lambda documentation advises.
_pool = None


def _connections():
    global _pool
    if _pool is None:
        _pool = psycopg2.pool.ThreadedConnectionPool(
            1,
            DB_CONNECTIONS,
            host=os.environ["DB_HOST"],
            port=int(os.environ.get("DB_PORT", "5432")),
            dbname=os.environ["DB_NAME"],
            user=os.environ["DB_USER"],
            password=os.environ["DB_PASSWORD"],
            connect_timeout=10,
        )
        conn = _pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute(
                    "CREATE TABLE IF NOT EXISTS pages (url text, title text, links integer, written_at timestamptz DEFAULT now())"
                )
            conn.commit()
        finally:
            _pool.putconn(conn)
    return _pool


def _fetch(url):
    for attempt in range(RETRIES + 1):
        try:
            response = requests.get(url, timeout=TIMEOUT_S)
        except requests.RequestException:
            if attempt == RETRIES:
                return None
            time.sleep(0.2 * 2**attempt)
            continue
        if response.status_code == 200:
            return response.text
        if response.status_code == 429 or response.status_code >= 500:
            if attempt == RETRIES:
                return None
            wait = response.headers.get("Retry-After")
            time.sleep(float(wait) if wait else 0.2 * 2**attempt)
            continue
        return None
    return None


def _scrape(pool, url):
    html = _fetch(url)
    if html is None:
        return False
    page = BeautifulSoup(html, "html.parser")
    title = page.title.get_text(strip=True) if page.title else ""
    links = len(page.find_all("a", href=True))
    with _free_connections:
        conn = pool.getconn()
        try:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO pages (url, title, links) VALUES (%s, %s, %s)", (url, title, links))
            conn.commit()
        finally:
            pool.putconn(conn)
    return True


def lambda_handler(event, context):
    urls = event["urls"]
    pool = _connections()
    with ThreadPoolExecutor(max_workers=int(os.environ["MAX_WORKERS"])) as executor:
        written = sum(executor.map(lambda url: _scrape(pool, url), urls))
    return {"pages": len(urls), "rows": written}
