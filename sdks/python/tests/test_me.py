import json
import unittest

import support
from osfria import AuthenticationError, OsfriaClient


@support.needs_platform
class MeTest(unittest.TestCase):

    def test_a_key_is_told_what_it_is_and_may_do(self):
        own = support.collection("own")
        # the key test_errors makes too (made once per run)
        api_key = support.key("user", "--read", own, "--write", own)
        me = OsfriaClient(api_key=api_key, base_url=support.BASE_URL).me()
        self.assertEqual(("key", f"py-user-{support.RUN}", False), (me.object, me.name, me.admin))
        self.assertEqual(([own], [own], False, False),
                         (me.collections.read, me.collections.write, me.collections.read_any, me.collections.write_any))
        self.assertNotIn(api_key[:14], json.dumps(me.to_dict()), "key material in the answer")
        admin = support.admin().me()
        self.assertTrue(admin.admin and admin.collections.read_any and admin.collections.write_any, admin)

    def test_a_wrong_key_is_refused(self):
        with self.assertRaises(AuthenticationError):
            OsfriaClient(api_key="sk-osfria-not-a-key", base_url=support.BASE_URL).me()
