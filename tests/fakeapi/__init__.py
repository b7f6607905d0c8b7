"""A fake Anthropic / OpenAI API server for tests of the real provider code.

No real model is reachable from the test machine, so provider code is tested
with the official SDKs against this server on 127.0.0.1:

    async with FakeAPI(api_key="test-key", faults=Faults(p_429=0.1)) as api:
        client = anthropic.AsyncAnthropic(api_key="test-key", base_url=api.url)
        openai_client = openai.AsyncOpenAI(api_key="test-key", base_url=api.url + "/v1")

It lives with the tests, not in the package: the tests import it as `fakeapi`
(pytest puts `tests/` on `sys.path`), and the benches add `tests/` to `sys.path`.
"""

from ._faults import Faults
from ._local import LocalServer
from ._server import FakeAPI, RecordedRequest

__all__ = ["FakeAPI", "Faults", "LocalServer", "RecordedRequest"]
