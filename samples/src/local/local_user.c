/* liblocal_user.so: calls shared_name() through an env import; linked against nothing. */
int shared_name(void);
int user_call(void) { return shared_name(); }
int user_id(void) { return 3; }
