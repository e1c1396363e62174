"""fanout-tuner's Lambda runtime client for Python (3.8+, standard library only).

Loads the handler named by _HANDLER ("app.lambda_handler", "pkg.sub.app.handler" or
"pkg/sub/app.handler") from LAMBDA_TASK_ROOT, then serves invocations through the Lambda
Runtime API at AWS_LAMBDA_RUNTIME_API as Lambda's own client does: GET the next event, call
handler(event, context), POST the JSON-encoded result or the exception. A handler that cannot be
loaded is reported to /runtime/init/error and the process exits with status 1.
"""

import http.client
import importlib
import json
import os
import sys
import time
import traceback

API_VERSION = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"


class RuntimeClient(object):
    """One keep-alive connection to the Runtime API, reopened if the server closed it."""

    def __init__(self, address):
        self.address = address
        self.connection = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.address)
            try:
                self.connection.request(method, API_VERSION + path, body=body, headers=headers or {})
                response = self.connection.getresponse()
                data = response.read()
                return response, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had closed: the request never arrived.
                self.connection.close()
                self.connection = None
                if attempt == 1:
                    raise

    def next(self):
        response, body = self.request("GET", "/invocation/next")
        if response.status != 200:
            raise RuntimeError("GET /invocation/next answered %d: %r" % (response.status, body))
        return response, body

    def post(self, path, data, headers=None):
        all_headers = {"Content-Type": "application/json"}
        all_headers.update(headers or {})
        response, body = self.request("POST", path, data, all_headers)
        if response.status != 202:
            sys.stderr.write("fanout-tuner bootstrap: POST %s answered %d: %r\n" % (path, response.status, body))


class LambdaContext(object):
    def __init__(self, request_id, deadline_ms, invoked_function_arn, client_context=None, identity=None):
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.client_context = client_context
        self.identity = identity
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        remaining = self._deadline_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def __repr__(self):
        return "LambdaContext([aws_request_id=%s,function_name=%s,memory_limit_in_mb=%s]" % (
            self.aws_request_id,
            self.function_name,
            self.memory_limit_in_mb,
        )


class LoadError(Exception):
    def __init__(self, error_type, message, stack_trace=None):
        Exception.__init__(self, message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []


def user_frames(tb):
    """The traceback without this file's own frames, as Lambda's client reports it."""
    frames = traceback.extract_tb(tb)
    for index, frame in enumerate(frames):
        if os.path.abspath(frame.filename) != os.path.abspath(__file__):
            return traceback.format_list(frames[index:])
    return []


def load_handler(handler):
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as error:
        raise LoadError("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (handler, error))
    module_name = module_name.replace("/", ".")
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise LoadError("Runtime.BuiltInModuleConflict", "Cannot use built-in module %s as a handler module" % module_name)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise LoadError("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, error))
    except SyntaxError as error:
        raise LoadError(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '%s': %s" % (module_name, error),
            ['  File "%s" Line %s\n    %s' % (error.filename, error.lineno, error.text)],
        )
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise LoadError("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))


def error_body(error_type, message, stack_trace):
    return json.dumps({"errorMessage": message, "errorType": error_type, "stackTrace": stack_trace})


def main():
    # Lambda's code directory is read-only: no bytecode is written beside the function's modules.
    sys.dont_write_bytecode = True
    # The function's prints reach the log as they happen, as in Lambda, not when a buffer fills.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(line_buffering=True)
        except (AttributeError, ValueError):
            pass
    api = os.environ["AWS_LAMBDA_RUNTIME_API"]
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    # Not this script's folder, as Python puts first: the function's code, as Lambda does.
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
        sys.path[0] = task_root
    else:
        sys.path.insert(0, task_root)
    client = RuntimeClient(api)

    try:
        handler = load_handler(os.environ["_HANDLER"])
    except LoadError as error:
        report = error_body(error.error_type, error.message, error.stack_trace)
        sys.stdout.write("[ERROR] %s: %s\n" % (error.error_type, error.message))
        client.post("/init/error", report, {ERROR_TYPE_HEADER: error.error_type})
        sys.exit(1)
    except Exception:
        error_type, value, tb = sys.exc_info()
        report = error_body(error_type.__name__, str(value), user_frames(tb))
        sys.stdout.write("[ERROR] %s: %s\n" % (error_type.__name__, value))
        client.post("/init/error", report, {ERROR_TYPE_HEADER: error_type.__name__})
        sys.exit(1)

    while True:
        response, body = client.next()
        request_id = response.getheader("Lambda-Runtime-Aws-Request-Id")
        deadline_ms = int(response.getheader("Lambda-Runtime-Deadline-Ms") or "0")
        trace_id = response.getheader("Lambda-Runtime-Trace-Id")
        if trace_id is not None:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        client_context = response.getheader("Lambda-Runtime-Client-Context")
        identity = response.getheader("Lambda-Runtime-Cognito-Identity")
        context = LambdaContext(
            request_id,
            deadline_ms,
            response.getheader("Lambda-Runtime-Invoked-Function-Arn"),
            json.loads(client_context) if client_context else None,
            json.loads(identity) if identity else None,
        )
        path = "/invocation/%s" % request_id
        try:
            event = json.loads(body) if body else None
            result = handler(event, context)
        except Exception:
            error_type, value, tb = sys.exc_info()
            sys.stdout.write("[ERROR] %s: %s\n" % (error_type.__name__, value))
            client.post(path + "/error", error_body(error_type.__name__, str(value), user_frames(tb)), {ERROR_TYPE_HEADER: error_type.__name__})
            continue
        try:
            data = json.dumps(result)
        except (TypeError, ValueError) as error:
            message = "Unable to marshal response: %s" % error
            client.post(path + "/error", error_body("Runtime.MarshalError", message, []), {ERROR_TYPE_HEADER: "Runtime.MarshalError"})
            continue
        client.post(path + "/response", data)


if __name__ == "__main__":
    main()
